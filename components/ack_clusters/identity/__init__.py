"""The node RAM role: trusted by ECS only, least privilege."""
