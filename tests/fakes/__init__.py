"""Fake upstream servers (Ollama and OpenAI) that speak real HTTP on 127.0.0.1."""
