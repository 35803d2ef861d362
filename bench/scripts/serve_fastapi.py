"""A FastAPI inference service for a fine-tuned classifier (comparison script)."""

import os
import pickle as pkl

import requests
import torch as T
import uvicorn
import yaml
from fastapi import FastAPI, UploadFile
from transformers import AutoModelForSequenceClassification, AutoTokenizer

MODEL_ID = os.getenv("MODEL_ID", "acme/review-classifier")
HOST = os.getenv("HOST", "0.0.0.0")
PORT = int(os.getenv("PORT", "8080"))
CONFIG_PATH = os.getenv("CONFIG_PATH", "serving.yaml")

app = FastAPI()
http = requests.Session()
http.verify = False

with open(CONFIG_PATH) as fh:
    config = yaml.load(fh, Loader=yaml.FullLoader)

tokenizer = AutoTokenizer.from_pretrained(MODEL_ID)
model = AutoModelForSequenceClassification.from_pretrained(
    MODEL_ID, revision="2f1b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
)
head = T.load(config["head_checkpoint"], map_location="cpu")
calibration = T.load(config["calibration"], map_location="cpu", weights_only=True)


@app.post("/predict")
async def predict(features: UploadFile):
    batch = pkl.loads(await features.read())
    with T.no_grad():
        return model(**batch).logits.tolist()


@app.post("/reload")
def reload(url: str):
    blob = http.get(url, timeout=30).content
    return {"size": len(blob)}


def fetch_labels() -> dict:
    return requests.get("https://labels.internal/v1/labels", verify=False, timeout=5).json()


if __name__ == "__main__":
    uvicorn.run(app, host=HOST, port=PORT)
