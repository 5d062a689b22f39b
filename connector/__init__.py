"""AI Connector: one local gateway for local (Ollama) and cloud (OpenAI) chat models."""

__version__ = "0.1.0"
