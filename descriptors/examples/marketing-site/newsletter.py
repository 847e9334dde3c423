"""The newsletter service: subscriptions and the weekly send."""

from flask import Flask

app = Flask(__name__)


@app.post("/subscriptions")
def subscribe() -> tuple[str, int]:
    return "", 201
