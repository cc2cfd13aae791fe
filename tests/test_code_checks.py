"""Code-driven programs get the checks the config-driven program makes (issue 29): the region
(from `alicloud:region`, the environment or the resource's provider) and its zones, typos of
regions, zones and argument keys with the likely fix; secrets from secret config accepted and
kept secret; and issue 30's refusals, tried from both sides (what must pass builds)."""

from __future__ import annotations

import base64
import logging
import subprocess
from pathlib import Path
from typing import Any

import pulumi
import pulumi_alicloud as alicloud
import pytest
from pulumi.runtime import rpc

from ack_clusters import DedicatedCluster, InvalidArguments, ManagedCluster, facts
from ack_clusters.testing import FakeAlibabaCloud, run_program
from ack_clusters.validation import ecs_password, user_data_script
from ack_offline.recorder import SECRET

from .conftest import ACK_PREVIEW, POOL, ZONES, form_args

HZ = {"alicloud:region": "cn-hangzhou"}
#: A pool ECS takes a password for: no key pair, not managed by ACK.
PASSWORD_POOL: dict[str, Any] = {
    **POOL,
    "key_name": None,
    "auto_repair": False,
    "auto_upgrade": False,
}


def build(
    args: Any,
    *,
    config: dict[str, str] | None = None,
    opts: Any = None,
    preview: bool = False,
    secret_keys: list[str] | None = None,
    cls: Any = ManagedCluster,
) -> Any:
    def program() -> None:
        cls("demo", args() if callable(args) else args, opts() if callable(opts) else opts)

    return run_program(
        program,
        mock=FakeAlibabaCloud(preview=preview),
        preview=preview,
        config=config,
        secret_keys=secret_keys,
        stack="test",
    )


def refusal(args: Any, **kw: Any) -> InvalidArguments:
    with pytest.raises(InvalidArguments) as err:
        build(args, **kw)
    return err.value


def failure(args: Any, **kw: Any) -> str:
    """What a run fails with, its causes included (a check inside an output fails the update)."""
    with pytest.raises(Exception) as err:
        build(args, **kw)
    text: list[str] = []
    exc: BaseException | None = err.value
    while exc is not None:
        text.append(str(exc))
        exc = exc.__cause__ or exc.__context__
    return "\n".join(text)


def with_outputs(kind: str, **overrides: Any) -> dict[str, Any]:
    """A form's valid arguments with top-level keys replaced by values that may hold outputs
    (which cannot be deep-copied, as form_args copies its overrides)."""
    return {**form_args(kind), **overrides}


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


# --- the region, wherever it comes from -------------------------------------------------------


def test_a_region_typo_in_config_is_refused_with_the_fix():
    err = refusal(form_args("managed"), config={"alicloud:region": "cn-hangzou"})
    assert ("alicloud:region", "'cn-hangzou' is not a region; did you mean 'cn-hangzhou'?") in (
        err.problems
    )


def test_zones_of_another_region_are_refused_naming_the_region():
    err = refusal(form_args("managed"), config={"alicloud:region": "cn-shanghai"})
    assert err.problems == [
        ("network.zones.0", "cn-hangzhou-i is not a zone of region cn-shanghai"),
        ("network.zones.1", "cn-hangzhou-j is not a zone of region cn-shanghai"),
    ]


def test_the_region_from_the_environment_is_checked_as_the_provider_reads_it(monkeypatch):
    monkeypatch.setenv("ALIBABA_CLOUD_REGION", "cn-shanghai")
    err = refusal(form_args("managed"))
    assert err.problems[0] == (
        "network.zones.0",
        "cn-hangzhou-i is not a zone of region cn-shanghai",
    )
    # The stack's config wins over the environment, as it does for the provider.
    build(form_args("managed"), config=HZ)


def test_zones_of_the_configured_region_build_without_a_region_warning(caplog):
    with caplog.at_level(logging.WARNING):
        build(form_args("managed"), config=HZ)
    assert not [w for w in warnings_of(caplog) if "region" in w]


def test_no_region_anywhere_warns_and_builds(caplog, monkeypatch):
    for variable in facts.REGION_ENVIRONMENT:
        monkeypatch.delenv(variable, raising=False)
    with caplog.at_level(logging.WARNING):
        build(form_args("managed"))
    said = [w for w in warnings_of(caplog) if w.startswith("no region is set")]
    assert said and "set alicloud:region to cn-hangzhou" in said[0]


def test_a_new_region_the_facts_do_not_know_warns_with_their_date(caplog):
    args = form_args("managed", network={"zones": ["xx-newland-a"]})
    with caplog.at_level(logging.WARNING):
        build(args, config={"alicloud:region": "xx-newland"})
    assert any(facts.CHECKED in w and "xx-newland" in w for w in warnings_of(caplog))


@pytest.mark.parametrize("region", ["ap-southeast-9", "us-east-2", "eu-central-2"])
def test_a_new_numbered_region_of_a_known_family_warns_and_builds(caplog, region):
    """Alibaba Cloud numbers the regions of a family: one the facts do not list yet differs
    from a listed sibling by its number alone, and is a new region, not a typo of it."""
    assert region not in facts.REGIONS
    args = form_args("managed", network={"zones": [f"{region}a", f"{region}b"]})
    with caplog.at_level(logging.WARNING):
        build(args, config={"alicloud:region": region})
    assert any(facts.CHECKED in w and region in w for w in warnings_of(caplog))
    # A number the family has is a known region: a typo beside it is still one.
    err = refusal(args, config={"alicloud:region": "ap-southeest-1"})
    assert "did you mean 'ap-southeast-1'" in err.problems[0][1]


def test_an_explicit_provider_of_another_region_fails_naming_the_zones():
    message = failure(
        form_args("managed"),
        config=HZ,  # the stack's region does not apply: the provider says where
        opts=lambda: pulumi.ResourceOptions(
            provider=alicloud.Provider("shanghai", region="cn-shanghai")
        ),
    )
    assert "network.zones.0: cn-hangzhou-i is not a zone of region cn-shanghai" in message
    assert "(the region of the resource's provider)" in message


def test_an_explicit_provider_of_the_zones_region_builds_whatever_the_stack_region():
    ran = build(
        form_args("managed"),
        config={"alicloud:region": "cn-shanghai"},
        opts=lambda: pulumi.ResourceOptions(
            providers=[alicloud.Provider("hangzhou", region="cn-hangzhou")]
        ),
    )
    assert ran.one("alicloud:cs/managedKubernetes:ManagedKubernetes")


def test_an_explicit_provider_without_a_region_is_checked_as_it_finds_one(caplog, monkeypatch):
    """An explicit provider never reads alicloud:region: without a region of its own it takes
    the environment's, else the CLI profile's or cn-beijing, which nothing here can check."""
    for variable in facts.REGION_ENVIRONMENT:
        monkeypatch.delenv(variable, raising=False)
    with caplog.at_level(logging.WARNING):
        build(
            form_args("managed"),
            config=HZ,
            opts=lambda: pulumi.ResourceOptions(provider=alicloud.Provider("noregion")),
        )
    said = [w for w in warnings_of(caplog) if "provider sets no region" in w]
    assert said and "region='cn-hangzhou'" in said[0] and "not alicloud:region" in said[0]
    monkeypatch.setenv("ALIBABA_CLOUD_REGION", "cn-shanghai")
    message = failure(
        form_args("managed"),
        config=HZ,
        opts=lambda: pulumi.ResourceOptions(provider=alicloud.Provider("noregion")),
    )
    assert "cn-hangzhou-i is not a zone of region cn-shanghai" in message


def test_a_provider_inherited_from_the_parent_is_the_one_checked():
    def program() -> None:
        parent = pulumi.ComponentResource(
            "my:index:Team",
            "team",
            opts=pulumi.ResourceOptions(
                providers=[alicloud.Provider("shanghai", region="cn-shanghai")]
            ),
        )
        ManagedCluster("demo", form_args("managed"), pulumi.ResourceOptions(parent=parent))

    with pytest.raises(Exception) as err:
        run_program(program, mock=FakeAlibabaCloud(), config=HZ)
    chain = []
    exc: BaseException | None = err.value
    while exc is not None:
        chain.append(str(exc))
        exc = exc.__cause__ or exc.__context__
    assert any("is not a zone of region cn-shanghai" in c for c in chain)


def test_a_provider_region_unknown_at_preview_is_not_a_failure():
    def program() -> None:
        # A region known only once another resource exists: unknown at preview.
        role = alicloud.ram.Role("r", role_name="r", assume_role_policy_document="{}")
        region = role.id.apply(lambda _: "cn-shanghai")
        provider = alicloud.Provider("later", region=region)
        ManagedCluster("demo", form_args("managed"), pulumi.ResourceOptions(provider=provider))

    ran = run_program(program, mock=FakeAlibabaCloud(preview=True), preview=True)
    assert ran.one("alicloud:cs/managedKubernetes:ManagedKubernetes")


# --- typos of zones and keys -------------------------------------------------------------------


def test_a_zone_typo_is_named_with_the_fix_not_as_two_regions():
    err = refusal(form_args("managed", network={"zones": ["cn-hangzhou-i", "cn-hangzou-j"]}))
    assert err.problems == [
        (
            "network.zones.1",
            "'cn-hangzou-j' is not a zone: 'cn-hangzou' is not a region; did you mean "
            "'cn-hangzhou-j'?",
        )
    ]


def test_a_zone_letter_the_region_lacks_warns_and_builds(caplog):
    args = form_args("managed", network={"zones": ["cn-hangzhou-i", "cn-hangzhou-z"]})
    with caplog.at_level(logging.WARNING):
        build(args, config=HZ)
    assert any("zone cn-hangzhou-z" in w and facts.CHECKED in w for w in warnings_of(caplog))


@pytest.mark.parametrize(
    ("change", "path", "fix"),
    [
        ({"nodepools": {}}, "nodepools", "node_pools"),
        ({"network": {"zones": ZONES[:2], "natt": "single"}}, "network.natt", "nat"),
        (
            {"node_pools": {"web": {**POOL, "desired": 2}}},
            "node_pools.web.desired",
            "desired_size",
        ),
        ({"autoscaler": {"expandr": "random"}}, "autoscaler.expandr", "expander"),
    ],
)
def test_a_key_typo_names_the_argument_it_is_likely_a_typo_of(change, path, fix):
    err = refusal(form_args("managed", **change))
    key = path.rsplit(".", 1)[-1]
    assert (path, f"unknown argument {key!r}; did you mean {fix!r}?") in err.problems


def test_a_setting_of_another_cluster_form_says_which_form_has_it():
    err = refusal(form_args("managed", masters={"count": 3}))
    assert err.problems == [
        (
            "masters",
            "masters is an argument of DedicatedClusterArgs, not of ManagedClusterArgs: this "
            "cluster form has no such setting",
        )
    ]


# --- secrets from secret config ----------------------------------------------------------------


def _secret_pool(**pool: Any) -> Any:
    """A cluster whose pool takes its password and script from secret config."""

    def args() -> dict[str, Any]:
        config = pulumi.Config()
        secret = {k: config.require_secret(v) for k, v in pool.items()}
        return with_outputs("managed", node_pools={"web": {**PASSWORD_POOL, **secret}})

    return args


SECRETS = {"project:password": "Sup3r-Secret!", "project:script": "#!/bin/sh\necho ready\n"}


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_a_secret_password_and_script_from_config_are_taken_and_stay_secret(preview):
    ran = build(
        _secret_pool(password="password", user_data="script"),
        config={**HZ, **SECRETS},
        secret_keys=list(SECRETS),
        preview=preview,
    )
    pool = ran.one("alicloud:cs/nodePool:NodePool")
    assert pool.inputs["password"] == SECRET and pool.inputs["userData"] == SECRET
    # On the wire to the engine, each is wrapped as a secret (the engine's secret signature).
    for key in ("password", "userData"):
        assert pool.wire_inputs[key][rpc._special_sig_key] == rpc._special_secret_sig


def test_a_plain_output_for_a_password_is_made_secret():
    def args() -> dict[str, Any]:
        password = pulumi.Output.from_input("Sup3r-Secret!")
        return with_outputs("managed", node_pools={"web": {**PASSWORD_POOL, "password": password}})

    ran = build(args, config=HZ)
    assert ran.one("alicloud:cs/nodePool:NodePool").inputs["password"] == SECRET


def test_a_secret_script_is_sent_base64_encoded_once():
    """The provider sends text that decodes as Base64 as it is: encoding once is what ECS
    runs (checked on the wire through the fake cloud's record of what it holds)."""
    mock = FakeAlibabaCloud()

    def program() -> None:
        script = pulumi.Config().require_secret("script")
        pool = {**POOL, "user_data": script}
        ManagedCluster("demo", with_outputs("managed", node_pools={"web": pool}))

    run_program(program, mock=mock, config={**HZ, **SECRETS}, secret_keys=["project:script"])
    held = [s for (t, _), s in mock._held.items() if t == "alicloud:cs/nodePool:NodePool"]
    sent = held[0]["userData"]
    assert sent[rpc._special_sig_key] == rpc._special_secret_sig
    assert base64.b64decode(sent["value"]).decode() == SECRETS["project:script"]


def test_a_secret_password_ecs_refuses_fails_without_quoting_it():
    message = failure(
        _secret_pool(password="password"),
        config={**HZ, "project:password": "Sup3r Secret!"},
        secret_keys=["project:password"],
    )
    assert "node_pools.web.password" in message and "does not allow" in message
    assert "Sup3r" not in message


def test_a_secret_windows_password_ecs_refuses_fails_without_quoting_it():
    """ECS refuses a Windows password that starts with '/': a secret one is held to it too,
    once known; a Linux pool may start its password so."""

    def pool(image_type: str) -> Any:
        def args() -> dict[str, Any]:
            password = pulumi.Config().require_secret("password")
            web = {
                **PASSWORD_POOL,
                "password": password,
                "image_type": image_type,
                "system_disk": {"size": facts.WINDOWS_IMAGE_GIB},
            }
            return with_outputs("managed", node_pools={"web": web})

        return args

    config = {**HZ, "project:password": "/Sup3r-Secret!"}
    message = failure(pool("Windows"), config=config, secret_keys=["project:password"])
    assert "a Windows password cannot start with '/'" in message
    assert "Sup3r" not in message
    ran = build(pool("AliyunLinux3"), config=config, secret_keys=["project:password"])
    assert ran.one("alicloud:cs/nodePool:NodePool")


def test_a_secret_password_unknown_at_preview_is_not_a_failure():
    def args() -> dict[str, Any]:
        role = alicloud.ram.Role("r", role_name="r", assume_role_policy_document="{}")
        password: pulumi.Output[str] = pulumi.Output.secret(role.id.apply(lambda _: "bad"))
        return with_outputs("managed", node_pools={"web": {**PASSWORD_POOL, "password": password}})

    ran = build(args, config=HZ, preview=True)
    assert ran.one("alicloud:cs/nodePool:NodePool")


def test_a_dedicated_cluster_takes_a_secret_master_password():
    def args() -> dict[str, Any]:
        password = pulumi.Config().require_secret("password")
        return with_outputs("dedicated", key_name=None, password=password)

    ran = build(
        args, config={**HZ, **SECRETS}, secret_keys=["project:password"], cls=DedicatedCluster
    )
    assert ran.one("alicloud:cs/kubernetes:Kubernetes").inputs["password"] == SECRET


# --- the rules behind issue 30's refusals, from both sides ---------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "Abcdefg1",
        "abc-def_1",
        "A" * 20 + "b1!",
        "Pa$$w0rd()`~",
        "Zz9<>,.?/[]{}|:;'",
        "x" * 28 + "Y1",
    ],
)
def test_passwords_ecs_takes_are_taken(password):
    assert ecs_password(password) == password


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("Abc def1!", "does not allow"),  # a space is not a symbol
        ("Abcdef1\u00e9", "does not allow"),  # nor a letter outside ASCII
        ("Abcdef1\\", "does not allow"),  # a backslash is not in ECS's set
        ('Abcdef1"', "does not allow"),
        ("Abc1!", "8-30 characters"),
        ("A" * 29 + "b1", "8-30 characters"),
        ("abcdefgh1", "three of"),
    ],
)
def test_passwords_ecs_refuses_are_refused_without_quoting_them(password, why):
    with pytest.raises(ValueError) as err:
        ecs_password(password)
    assert why in str(err.value) and password not in str(err.value)


@pytest.mark.parametrize(
    "script",
    [
        "#!/bin/sh\necho hello\n",
        "#cloud-config\npackages: [jq]\n",
        "true",  # valid Base64 by its letters, but it decodes to bytes that are not text
        "x" * facts.USER_DATA_MAX_BYTES,
    ],
)
def test_scripts_are_taken_as_written(script):
    assert user_data_script(script) == script


def test_a_script_over_the_limit_or_already_encoded_is_refused():
    with pytest.raises(ValueError, match="16,384"):
        user_data_script("x" * (facts.USER_DATA_MAX_BYTES + 1))
    with pytest.raises(ValueError, match="already Base64"):
        user_data_script(base64.b64encode(b"#!/bin/sh\necho hello\n").decode())


def test_a_windows_pool_with_a_password_and_a_big_enough_disk_builds():
    pool = {
        **PASSWORD_POOL,
        "password": "Sup3r-Secret!",
        "image_type": "Windows",
        "system_disk": {"size": facts.WINDOWS_IMAGE_GIB},
    }
    ran = build(form_args("managed", node_pools={"web": pool}), config=HZ)
    assert ran.one("alicloud:cs/nodePool:NodePool").inputs["imageType"] == "Windows"


def test_a_scaling_policy_on_an_autoscaled_pool_builds():
    pool = {
        **POOL,
        "desired_size": None,
        "autoscaling": {"min_size": 1, "max_size": 3},
        "scaling_policy": "recycle",
    }
    ran = build(form_args("managed", node_pools={"web": pool}), config=HZ)
    assert ran.one("alicloud:cs/nodePool:NodePool").inputs["scalingPolicy"] == "recycle"


def test_node_cidr_mask_is_taken_with_flannel_and_left_out_with_terway():
    build(form_args("managed", network_plugin="flannel", node_cidr_mask=25), config=HZ)
    build(form_args("managed"), config=HZ)
    # Said explicitly with Terway, even as the default, it is a setting that does nothing.
    err = refusal(form_args("managed", node_cidr_mask=26), config=HZ)
    assert "Terway gives pods addresses from pod vSwitches" in str(err)


def test_versions_at_the_minimums_build():
    build(form_args("managed", kubernetes_version="1.22.3-aliyun.1"), config=HZ)
    pools = {"web": {**POOL, "desired_size": None, "autoscaling": {"min_size": 1, "max_size": 2}}}
    build(
        form_args(
            "managed",
            kubernetes_version="1.23.1-aliyun.1",
            node_pools=pools,
            autoscaler={"scaler_type": "goatscaler"},
        ),
        config=HZ,
    )
    build(form_args("managed", kubernetes_version="1.20.11-aliyun.1", rrsa=False), config=HZ)


def test_a_master_essd_at_its_levels_minimum_builds():
    disk = {"size": facts.ESSD_MIN_GIB["PL2"], "performance_level": "PL2"}
    ran = build(form_args("dedicated", masters={"disk": disk}), config=HZ, cls=DedicatedCluster)
    assert ran.one("alicloud:cs/kubernetes:Kubernetes").inputs["masterDiskSize"] == 461


def test_an_addon_of_ack_s_catalogue_does_not_warn(caplog):
    addons = [{"name": "nginx-ingress-controller", "version": "v1.9.3-aliyun.1"}]
    with caplog.at_level(logging.WARNING):
        build(form_args("managed", addons=addons), config=HZ)
    assert not [w for w in warnings_of(caplog) if "catalogue" in w]


# --- the proof the issue asks for: a project of one's own, outside this checkout -----------------

OWN_PROGRAM = """
import pulumi
from ack_clusters import ManagedCluster

config = pulumi.Config()
ManagedCluster("shop", {
    "network": {"zones": ["cn-hangzhou-i", "cn-hangzhou-j"]},
    "node_pools": {"web": {
        "instance_types": ["ecs.g7.large"], "desired_size": 2,
        "password": config.require_secret("nodePassword"),
        "auto_repair": False, "auto_upgrade": False,
    }},
})
"""


def own_project(tmp_path: Path, region: str) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: shop\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(OWN_PROGRAM)
    # A secret as `pulumi config set --secret` leaves it, which ack-preview reads as a secret.
    (tmp_path / "Pulumi.dev.yaml").write_text(
        f"config:\n  alicloud:region: {region}\n"
        "  shop:nodePassword:\n    secure: AAABAKz0fake0ciphertext\n"
    )
    return tmp_path


def preview(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ACK_PREVIEW, "dev", "--program", str(project)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.heavy
def test_a_project_of_ones_own_with_a_region_typo_is_refused(tmp_path):
    done = preview(own_project(tmp_path, "cn-hangzou"))
    assert done.returncode == 2, done.stderr
    assert "alicloud:region: 'cn-hangzou' is not a region; did you mean 'cn-hangzhou'?" in (
        done.stderr
    )


@pytest.mark.heavy
def test_a_project_of_ones_own_with_a_secret_password_previews(tmp_path):
    done = preview(own_project(tmp_path, "cn-hangzhou"))
    assert done.returncode == 0, done.stderr
