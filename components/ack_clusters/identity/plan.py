"""RAM documents for worker nodes: who may assume the role, and the least it may do."""

from __future__ import annotations

import json


def node_trust_policy() -> str:
    """Only ECS may assume the node role (a "common service role" trusting ECS, as ACK node
    pools require for a custom ``ram_role_name``)."""
    return json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Action": "sts:AssumeRole",
                    "Effect": "Allow",
                    "Principal": {"Service": ["ecs.aliyuncs.com"]},
                }
            ],
        },
        sort_keys=True,
    )


def node_policy_document() -> str:
    """What a worker node itself needs: describe itself and its network, pull images from ACR,
    ship logs and metrics. Controllers that change cloud resources (CCM, CSI, Terway, the
    autoscaler) run in the managed control plane under ACK's own service roles, so nodes get no
    write access to ECS, VPC or SLB."""
    return json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": [
                        "ecs:DescribeInstances",
                        "ecs:DescribeInstanceAttribute",
                        "ecs:DescribeNetworkInterfaces",
                        "ecs:DescribeDisks",
                        "vpc:DescribeVSwitches",
                        "vpc:DescribeVpcs",
                    ],
                    "Resource": "*",
                },
                {
                    "Effect": "Allow",
                    "Action": [
                        "cr:GetAuthorizationToken",
                        "cr:ListInstanceEndpoint",
                        "cr:PullRepository",
                    ],
                    "Resource": "*",
                },
                {
                    "Effect": "Allow",
                    "Action": ["log:PostLogStoreLogs", "log:GetProject", "log:GetLogStore"],
                    "Resource": "*",
                },
                {
                    "Effect": "Allow",
                    "Action": ["cms:PutCustomMetric", "cms:PutEventRule"],
                    "Resource": "*",
                },
            ],
        },
        sort_keys=True,
    )
