"""Queues of volunteers and the rules that send each case to one of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.intake.flows import DISTRICTS, FLOWS
from db.models import CaseKind


class RoutingError(ValueError):
    """A queue or a routing rule in the config file is wrong; the message says which."""


@dataclass(frozen=True)
class QueueSettings:
    name: str
    chat_id: int | None  # None: the group is chosen from the chat with /setqueue
    volunteers: frozenset[int] | None  # None: every member of the group is a volunteer


@dataclass(frozen=True)
class Route:
    """Cases matching every given field go to `queue`; an absent field matches anything."""

    queue: str
    kinds: frozenset[str] | None = None
    districts: frozenset[str] | None = None
    languages: frozenset[str] | None = None

    def matches(self, kind: str, district: str | None, language: str) -> bool:
        return (
            (self.kinds is None or kind in self.kinds)
            and (self.districts is None or district in self.districts)
            and (self.languages is None or language in self.languages)
        )


# Without rules, a case goes to the queue named after its kind, else to the first queue.
DEFAULT_QUEUE_OF_KIND: dict[str, str] = {CaseKind.HOUSING: "housing", CaseKind.FOOD: "food"}


def choose_queue(
    routes: Sequence[Route], queues: Sequence[str], kind: str, district: str | None, language: str
) -> str | None:
    """The queue for a case, or None when there is no queue at all yet."""
    for route in routes:
        if route.matches(kind, district, language) and route.queue in queues:
            return route.queue
    default = DEFAULT_QUEUE_OF_KIND.get(kind)
    if default in queues:
        return default
    return queues[0] if queues else None


def parse_queues(table: object) -> tuple[QueueSettings, ...]:
    if not isinstance(table, Mapping):
        raise RoutingError("queues must be tables like [queues.housing]")
    return tuple(_queue(name, values) for name, values in table.items())


def _queue(name: str, values: object) -> QueueSettings:
    if not isinstance(values, Mapping):
        raise RoutingError(f"queues.{name} must be a table")
    unknown = sorted(set(values) - {"chat_id", "volunteers"})
    if unknown:
        raise RoutingError(f"queues.{name}: unknown setting {unknown[0]!r}")
    chat_id = values.get("chat_id")
    if chat_id is not None and (type(chat_id) is not int or chat_id >= 0):
        raise RoutingError(f"queues.{name}.chat_id must be a group's id (a negative number)")
    volunteers = values.get("volunteers")
    if volunteers is not None and (
        not isinstance(volunteers, list) or not all(type(v) is int for v in volunteers)
    ):
        raise RoutingError(f"queues.{name}.volunteers must be a list of Telegram user ids")
    return QueueSettings(name, chat_id, frozenset(volunteers) if volunteers is not None else None)


def parse_routes(rules: object, queues: Sequence[QueueSettings]) -> tuple[Route, ...]:
    if not isinstance(rules, list):
        raise RoutingError("routing must be a list of [[routing]] rules")
    names = {queue.name for queue in queues}
    return tuple(_route(i, rule, names) for i, rule in enumerate(rules, 1))


def _route(number: int, rule: object, queues: set[str]) -> Route:
    where = f"routing rule {number}"
    if not isinstance(rule, Mapping):
        raise RoutingError(f"{where} must be a table")
    unknown = sorted(set(rule) - {"queue", "kind", "district", "language"})
    if unknown:
        raise RoutingError(f"{where}: unknown setting {unknown[0]!r}")
    queue = rule.get("queue")
    if queue not in queues:
        raise RoutingError(f"{where}: queue {queue!r} is not one of the [queues]")
    districts = {option.key for option in DISTRICTS}
    return Route(
        queue=str(queue),
        kinds=_values(rule, "kind", set(FLOWS), where),
        districts=_values(rule, "district", districts, where),
        languages=_values(rule, "language", None, where),
    )


def _values(
    rule: Mapping[str, Any], key: str, allowed: set[str] | None, where: str
) -> frozenset[str] | None:
    """A rule field given as one value or a list of values."""
    if key not in rule:
        return None
    raw = rule[key]
    values = raw if isinstance(raw, list) else [raw]
    for value in values:
        if not isinstance(value, str) or (allowed is not None and value not in allowed):
            choices = f" (one of {', '.join(sorted(allowed))})" if allowed else ""
            raise RoutingError(f"{where}: unknown {key} {value!r}{choices}")
    return frozenset(values)
