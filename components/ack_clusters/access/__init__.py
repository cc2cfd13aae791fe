"""Cluster access: the kubeconfig and a Kubernetes provider built from it."""
