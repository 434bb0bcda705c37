"""Nodes: health, recent events, config pushes and commands (technicians)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from checkpoint.contract import Command, ConfigPush, encode, topics, uuid7
from checkpoint.contract.models import CommandName, Id, Text
from checkpoint.contract.node.config import NodeConfig
from hub.api import queries
from hub.api.context import ApiContext
from hub.api.roles import Principal
from hub.api.schemas import StrictBody, errors
from hub.api.security import AnyRole, ContextDep, DownlinkDep, InfluxDep, Technician, ensure_ward
from hub.api.sent import Sent
from hub.api.timewindow import window
from hub.influx.schema import MEASUREMENTS
from hub.influx.v1 import InfluxError, InfluxV1
from hub.publisher import Publisher, PublishError

router = APIRouter(prefix="/nodes", tags=["nodes"], responses=errors(401, 403, 503))
NodeId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", examples=["phucla-cp07-n1"])]
# A node that sent nothing for this long is shown offline.
OFFLINE_AFTER = timedelta(minutes=3)


class NodeOut(BaseModel):
    node_id: str
    checkpoint_id: str
    ward_id: str
    online: bool
    last_seen: datetime
    software_version: str | None = None
    config_version: str | None = None
    outbox_depth: int | None = None
    sensor_errors: int | None = None
    cpu_temp_c: float | None = None
    disk_free_bytes: int | None = None
    flags: list[str] = Field(default_factory=list)


class EventsPage(BaseModel):
    items: list[dict[str, Any]]
    next_offset: int | None


class ConfigIn(StrictBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "version": "2026-11-22.2",
                    "config": {
                        "node_id": "phucla-cp07-n1",
                        "checkpoint_id": "phucla-cp07",
                        "ward_id": "phucla",
                        "zone_level": "yellow",
                    },
                }
            ]
        },
    )

    version: Text = Field(min_length=1, max_length=64, examples=["2026-11-22.2"])
    config: NodeConfig = Field(description="A complete node config (see firmware_config/)")


class ConfigState(BaseModel):
    node_id: str
    version: str
    issued_at: datetime
    issued_by: str
    state: Literal["pending", "applied", "refused"]
    error: str | None = None


class CommandIn(StrictBody):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "barrier_test", "args": {}}]}
    )

    name: CommandName
    args: dict[str, Any] = Field(default_factory=dict, max_length=20)


class CommandState(BaseModel):
    command_id: str
    node_id: str
    name: str
    issued_at: datetime
    state: Literal["pending", "ok", "failed"]
    detail: str | None = None


def _ward_of(influx: InfluxV1, node_id: str, who: Principal) -> str:
    try:
        ward = queries.node_ward(influx, node_id)
    except InfluxError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None
    if ward is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no node {node_id!r} has reported yet")
    ensure_ward(who, ward)
    return ward


def _unavailable(exc: Exception) -> HTTPException:
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc))


@router.get("", response_model=list[NodeOut])
def list_nodes(
    who: AnyRole,
    influx: InfluxDep,
    ward: Annotated[Id | None, Query()] = None,
    checkpoint: Annotated[Id | None, Query()] = None,
) -> list[NodeOut]:
    """Every node that reported, with its latest health; offline after 3 minutes of silence."""
    if ward is not None:
        ensure_ward(who, ward)
    try:
        nodes = queries.node_health(influx, ward=ward, checkpoint=checkpoint)
    except InfluxError as exc:
        raise _unavailable(exc) from None
    now = datetime.now(UTC)
    out = []
    for n in nodes:
        if not who.may_act_in(n.ward_id):
            continue
        f = n.fields
        flags = str(f.get("flags") or "")
        out.append(
            NodeOut(
                node_id=n.node_id,
                checkpoint_id=n.checkpoint_id,
                ward_id=n.ward_id,
                online=now - n.last_seen < OFFLINE_AFTER,
                last_seen=n.last_seen,
                software_version=f.get("software_version"),
                config_version=f.get("config_version"),
                outbox_depth=f.get("outbox_depth"),
                sensor_errors=f.get("sensor_errors"),
                cpu_temp_c=f.get("cpu_temp_c"),
                disk_free_bytes=f.get("disk_free_bytes"),
                flags=[x for x in flags.split(",") if x],
            )
        )
    return out


@router.get("/{node_id}/events", response_model=EventsPage, responses=errors(404))
def node_events(
    node_id: NodeId,
    who: AnyRole,
    influx: InfluxDep,
    type: Annotated[
        Literal[MEASUREMENTS] | None, Query(description="Only this event type")  # type: ignore[valid-type]
    ] = None,
    since: Annotated[datetime | None, Query(description="Default: 24 hours ago")] = None,
    until: Annotated[datetime | None, Query(description="Default: now")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> EventsPage:
    """A node's recent events, newest first. The range may span at most 7 days."""
    _ward_of(influx, node_id, who)
    start, end = window(since, until, default=timedelta(days=1), maximum=timedelta(days=7))
    try:
        items = queries.node_events(
            influx,
            node_id,
            measurement=type,
            start=start,
            end=end,
            limit=limit + 1,
            offset=offset,
        )
    except InfluxError as exc:
        raise _unavailable(exc) from None
    more = len(items) > limit
    return EventsPage(items=items[:limit], next_offset=offset + limit if more else None)


def _send(
    ctx: ApiContext,
    downlink: Publisher,
    who: Principal,
    message: ConfigPush | Command,
    id_: str,
    node_id: str,
    ward_id: str,
    name: str,
    body: dict[str, Any],
    *,
    detail: dict[str, Any],
) -> Sent:
    """Publish to the node (a config retained, a command not), keep what was sent to report
    its outcome, and audit it."""
    if isinstance(message, ConfigPush):
        kind, action, topic, retain = "config", "config.push", topics.config_topic(node_id), True
    else:
        kind, action, topic = "command", "command.send", topics.command_topic(node_id)
        retain = False
    try:
        downlink.publish(topic, encode(message), retain=retain)
    except PublishError as exc:
        raise _unavailable(exc) from None
    sent = ctx.sent.record(kind, id_, node_id, ward_id, name, body, who.key_id)
    ctx.audit.record(who, action, node_id, ward_id=ward_id, detail=detail)
    return sent


def _answer(
    who: Principal,
    sent: Sent | None,
    missing: str,
    ask: Callable[[Sent], dict[str, Any] | None],
) -> tuple[Sent, dict[str, Any] | None]:
    """What was sent (404 ``missing`` if nothing, 403 outside the key's wards) and the
    node's answer to it as stored (None: not yet)."""
    if sent is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, missing)
    ensure_ward(who, sent.ward_id)
    try:
        return sent, ask(sent)
    except InfluxError as exc:
        raise _unavailable(exc) from None


@router.put(
    "/{node_id}/config",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ConfigState,
    responses=errors(409),
)
def push_config(
    node_id: NodeId,
    body: ConfigIn,
    who: Technician,
    ctx: ContextDep,
    downlink: DownlinkDep,
) -> ConfigState:
    """Send a node a new config (retained). It answers applied or refused; see GET."""
    config = body.config
    if config.node_id != node_id:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"the config is for {config.node_id!r}, not {node_id!r}"
        )
    ensure_ward(who, config.ward_id)
    key = f"{node_id}/{body.version}"
    if ctx.sent.get("config", key) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"version {body.version!r} was already sent")
    as_json = config.model_dump(mode="json", exclude_unset=True)
    push = ConfigPush(version=body.version, config=as_json, issued_at=datetime.now(UTC))
    sent = _send(
        ctx, downlink, who, push, key, node_id, config.ward_id, body.version, as_json,
        detail={"version": body.version},
    )  # fmt: skip
    return ConfigState(
        node_id=node_id,
        version=body.version,
        issued_at=sent.issued_at,
        issued_by=who.key_id,
        state="pending",
    )


@router.get("/{node_id}/config", response_model=ConfigState, responses=errors(404))
def config_state(node_id: NodeId, who: AnyRole, ctx: ContextDep, influx: InfluxDep) -> ConfigState:
    """The last config sent to the node and whether the node applied or refused it."""
    sent, ack = _answer(
        who,
        ctx.sent.latest_config(node_id),
        f"no config was sent to {node_id!r}",
        lambda sent: queries.last_config_ack(influx, node_id, sent.name),
    )
    state: Literal["pending", "applied", "refused"] = "pending"
    if ack is not None:
        state = "applied" if ack.get("applied") else "refused"
    return ConfigState(
        node_id=node_id,
        version=sent.name,
        issued_at=sent.issued_at,
        issued_by=sent.issued_by,
        state=state,
        error=ack.get("error") if ack else None,
    )


@router.post(
    "/{node_id}/commands",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CommandState,
    responses=errors(404),
)
def send_command(
    node_id: NodeId,
    body: CommandIn,
    who: Technician,
    ctx: ContextDep,
    influx: InfluxDep,
    downlink: DownlinkDep,
) -> CommandState:
    """Send a command (barrier test cycle, re-read config, re-measure); see GET for its result."""
    ward = _ward_of(influx, node_id, who)
    command = Command(id=uuid7(), name=body.name, args=body.args, issued_at=datetime.now(UTC))
    sent = _send(
        ctx, downlink, who, command, command.id, node_id, ward, body.name.value, body.args,
        detail={"command_id": command.id, "name": body.name.value, "args": body.args},
    )  # fmt: skip
    return CommandState(
        command_id=command.id,
        node_id=node_id,
        name=body.name.value,
        issued_at=sent.issued_at,
        state="pending",
    )


@router.get("/{node_id}/commands/{command_id}", response_model=CommandState, responses=errors(404))
def command_state(
    node_id: NodeId,
    command_id: Annotated[str, Path(max_length=64)],
    who: AnyRole,
    ctx: ContextDep,
    influx: InfluxDep,
) -> CommandState:
    """A command's outcome as the node reported it."""
    found = ctx.sent.get("command", command_id)
    sent, result = _answer(
        who,
        found if found is not None and found.node_id == node_id else None,
        f"no command {command_id!r} for {node_id!r}",
        lambda _sent: queries.command_result(influx, node_id, command_id),
    )
    state: Literal["pending", "ok", "failed"] = "pending"
    if result is not None:
        state = "ok" if result.get("ok") else "failed"
    return CommandState(
        command_id=command_id,
        node_id=node_id,
        name=sent.name,
        issued_at=sent.issued_at,
        state=state,
        detail=result.get("detail") if result else None,
    )
