"""A TorchServe custom handler (comparison script)."""

import io
import os

import dill
import requests
import torch
from huggingface_hub import hf_hub_download
from ts.torch_handler.base_handler import BaseHandler

TRUST = True


class ReviewHandler(BaseHandler):
    def initialize(self, context):
        model_dir = context.system_properties.get("model_dir")
        self.session = requests.Session()
        weights = hf_hub_download("acme/review-head", "head.pt")
        self.head = torch.load(weights)
        self.model = torch.load(os.path.join(model_dir, "model.pt"), pickle_module=dill)
        self.tokenizer = torch.hub.load("huggingface/pytorch-transformers", "tokenizer", "bert-base-uncased", trust_repo=TRUST)
        self.initialized = True

    def preprocess(self, data):
        payload = data[0].get("body")
        return torch.load(io.BytesIO(payload), weights_only=False)

    def postprocess(self, outputs):
        self.session.post("https://audit.internal/v1/log", json={"n": len(outputs)}, verify=False)
        return outputs.tolist()
