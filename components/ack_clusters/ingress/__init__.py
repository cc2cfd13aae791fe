"""The ingress load balancer a cluster owns, and the Service bound to it."""
