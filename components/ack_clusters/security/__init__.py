"""The cluster security group: ACK's rules plus the user's typed extras."""
