"""GenAI Lab desktop app (PySide6): thin views over ``genai_engine``."""
