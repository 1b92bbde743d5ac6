"""The autoregressive family: a pixel transformer that writes an image one pixel at a time."""

from genai_engine.families.autoregressive.family import ARFamily

FAMILY = ARFamily()
