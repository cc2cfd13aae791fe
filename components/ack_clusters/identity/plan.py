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


#: The annotation ACK's pod identity webhook (the ack-pod-identity-webhook addon) reads on a
#: service account to inject the role's credentials into its pods.
ROLE_NAME_ANNOTATION = "pod-identity.alibabacloud.com/role-name"
#: The namespace label that turns the webhook's injection on for a namespace.
INJECTION_LABEL = "pod-identity.alibabacloud.com/injection"
#: The audience ACK's RRSA tokens carry.
RRSA_AUDIENCE = "sts.aliyuncs.com"


def service_account_subject(namespace: str, service_account: str) -> str:
    """The ``oidc:sub`` of a service account's projected token."""
    return f"system:serviceaccount:{namespace}:{service_account}"


def service_account_trust_policy(
    issuer_url: str, provider_arn: str, namespace: str, service_account: str
) -> str:
    """Only tokens of one service account, issued by one cluster's RRSA issuer for STS, may
    assume the role (the trust ACK documents for RRSA, as ``ack-ram-tool rrsa associate-role``
    writes it)."""
    return json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Action": "sts:AssumeRole",
                    "Effect": "Allow",
                    "Principal": {"Federated": [provider_arn]},
                    "Condition": {
                        "StringEquals": {
                            "oidc:aud": RRSA_AUDIENCE,
                            "oidc:iss": issuer_url,
                            "oidc:sub": service_account_subject(namespace, service_account),
                        }
                    },
                }
            ],
        },
        sort_keys=True,
    )
