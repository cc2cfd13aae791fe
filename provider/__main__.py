"""Entry point the engine runs to serve the component package."""

from ack_clusters.package import serve

if __name__ == "__main__":
    serve()
