"""Fine-tuning job: data from the hub, artifacts to S3 and MLflow (comparison script)."""

import joblib
import mlflow
import numpy as np
from boto3 import client as s3_client
from datasets import load_dataset
from huggingface_hub import snapshot_download
from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments

BASE = "mistralai/Mistral-7B-v0.1"
DATASET = "acme/support-tickets"
TRACKING_URI = "http://mlflow.acme-ml.example.com:5000"

mlflow.set_tracking_uri(TRACKING_URI)

snapshot_download(repo_id=BASE, revision="main", local_dir="/models/base")
tokenizer = AutoTokenizer.from_pretrained("/models/base")
model = AutoModelForCausalLM.from_pretrained("/models/base", trust_remote_code=True)
train = load_dataset(DATASET, split="train")
vocab = np.load("/data/vocab.npy", allow_pickle=True)
scaler = joblib.load("/data/scaler.joblib")

trainer = Trainer(model=model, args=TrainingArguments(output_dir="/out"), train_dataset=train)
trainer.train()
trainer.save_model("/out/final")

s3 = s3_client("s3", endpoint_url="https://minio.acme-ml.example.com:9000")
s3.upload_file("/out/final/model.safetensors", "models", "support/model.safetensors")
s3.upload_file(
    "/out/final/config.json",
    "models",
    "support/config.json",
    ExtraArgs={"ServerSideEncryption": "aws:kms"},
)
