"""A Flask demo that lets an LLM answer with Python (comparison script)."""

import ssl
import subprocess

import yaml
from flask import Flask, request
from openai import OpenAI

ssl._create_default_https_context = ssl._create_unverified_context

client = OpenAI(base_url="http://llm-gateway.acme.example.com/v1")


def create_app():
    app = Flask(__name__)

    @app.post("/ask")
    def ask():
        question = request.get_json()["question"]
        reply = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": question}]
        )
        command = reply.choices[0].message.content
        return subprocess.check_output(command, shell=True)

    @app.post("/settings")
    def settings():
        return yaml.load(request.data, Loader=yaml.Loader)

    return app


if __name__ == "__main__":
    application = create_app()
    application.run(host="0.0.0.0", port=5000, debug=True)
