"""The three cluster forms and the one build path that puts the other concepts together."""
