"""Test doubles shared by the test suite: a real OpenAI-compatible server, tiny local models."""
