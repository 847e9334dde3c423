"""The rule forms of a scorecard check, each judged on an entity's resolved context.

The forms are a closed set (see ``catalog_sync.descriptors.scorecard``); each answers a
``CheckResult``: whether it passed, the value shown beside it (a count, a number of days, the
missing roles, the field's value) and a message a person can act on. A rule that depends on the
passing of time also answers until when its answer holds (``valid_until``), so the scorer re-scores
that entity when the answer may flip, without re-scoring everything every day.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from catalog_sync.scoring.definitions import CheckDef
from catalog_sync.scoring.kpirule import kpi_rule
from catalog_sync.scoring.plugins import BUILTIN_CHECKS, CheckResult, CheckSubject, PluginChecks
from catalog_sync.scoring.resolve import Context, TeamInfo
from catalog_sync.scoring.view import kind_of
from catalog_sync.sources.selection import in_listed_folder

PLUGIN_VALIDITY = timedelta(days=1)
"""How long a plugin check's answer is kept before the check runs again (plugins may read time)."""
_MAX_SHOWN = 200
_INDEXED = re.compile(r"^(.*?)((?:\[\d+\])*)$")

Outcome = tuple[CheckResult, datetime | None]


@dataclass(frozen=True)
class RuleEnv:
    """What rules need besides the entity: the time, the configuration, the plugin checks."""

    now: datetime
    required_roles: tuple[str, ...]
    plugins: PluginChecks
    fact_paths: tuple[str, ...] = ()


def evaluate_rule(check: CheckDef, context: Context, env: RuleEnv) -> Outcome:
    """Judge one check; never raises for odd data (it fails the check and says why)."""
    judge = _FORMS.get(check.form)
    if judge is None:
        return CheckResult(False, None, f"unknown rule form {check.form!r}"), None
    return judge(check.rule, context, env)


# -- field ----------------------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _steps(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def lookup(body: Any, path: str) -> tuple[bool, Any]:
    """The value at a dotted path with ``[N]`` list items; keys holding dots (annotations) are found."""
    tokens = _steps(path)
    node = body
    index = 0
    while index < len(tokens):
        if not isinstance(node, Mapping):
            return False, None
        token = tokens[index]
        if token in node and "[" not in token:  # the common case: a plain key
            node = node[token]
            index += 1
            continue
        for end in range(index, len(tokens)):
            match = _INDEXED.match(".".join(tokens[index : end + 1]))
            assert match is not None
            name, positions = match.group(1), match.group(2)
            if name in node:
                node = node[name]
                for position in re.findall(r"\d+", positions):
                    if not isinstance(node, list) or int(position) >= len(node):
                        return False, None
                    node = node[int(position)]
                index = end + 1
                break
        else:
            return False, None
    return node is not None, node


def shown(value: Any) -> Any:
    """The value put beside a check: scalars as they are, a list or mapping as its size."""
    if isinstance(value, list | tuple | Mapping):
        return len(value)
    if isinstance(value, str) and len(value) > _MAX_SHOWN:
        return value[: _MAX_SHOWN - 1] + "…"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return float(left) == float(right)
    return bool(type(left) is type(right) and left == right)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _field(rule: Any, context: Context, env: RuleEnv) -> Outcome:
    path = str(rule["field"])
    found, value = lookup(context.body, path)
    failures: list[str] = []
    notes: list[str] = []
    display = shown(value) if found else None
    if "exists" in rule:
        if bool(rule["exists"]) != found:
            failures.append(f"{path} is not set" if rule["exists"] else f"{path} is set and must not be")
        else:
            notes.append(f"{path} is set" if found else f"{path} is not set")
    if "equals" in rule:
        if not found or not _equal(value, rule["equals"]):
            failures.append(_is(path, found, value) + f", not {rule['equals']!r}")
        else:
            notes.append(f"{path} is {value!r}")
    if "in" in rule:
        allowed = list(rule["in"])
        if not found or not any(_equal(value, option) for option in allowed):
            failures.append(_is(path, found, value) + ", not one of " + ", ".join(map(str, allowed)))
        else:
            notes.append(f"{path} is {value!r}")
    if "matches" in rule:
        pattern = str(rule["matches"])
        if not isinstance(value, str):
            failures.append(_is(path, found, value) + f", not text matching {pattern!r}")
        elif re.search(pattern, value) is None:
            failures.append(f"{path} {value!r} does not match {pattern!r}")
        else:
            notes.append(f"{path} {value!r} matches {pattern!r}")
    if "minItems" in rule:
        wanted = int(rule["minItems"])
        count = len(value) if isinstance(value, list) else 0
        display = count
        if not isinstance(value, list) and found:
            failures.append(f"{path} is not a list (at least {wanted} items needed)")
        elif count < wanted:
            failures.append(f"{path} has {_items(count)}; at least {wanted} needed")
        else:
            notes.append(f"{path} has {_items(count)} (at least {wanted} needed)")
    for bound, word in (("min", "minimum"), ("max", "maximum")):
        if bound not in rule:
            continue
        limit, number = float(rule[bound]), _number(value)
        if number is None:
            failures.append(_is(path, found, value) + f", not a number (the {word} is {rule[bound]})")
        elif (number < limit) if bound == "min" else (number > limit):
            side = "below" if bound == "min" else "above"
            failures.append(f"{path} is {value}, {side} the {word} {rule[bound]}")
        else:
            notes.append(f"{path} is {value} (the {word} is {rule[bound]})")
    passed = not failures
    return CheckResult(passed, display, "; ".join(failures if failures else dict.fromkeys(notes))), None


def _is(path: str, found: bool, value: Any) -> str:
    return f"{path} is {shown(value)!r}" if found else f"{path} is not set"


def _items(count: int) -> str:
    return f"{count} item" if count == 1 else f"{count} items"


# -- ownership and teams --------------------------------------------------------------------------------


def owner_message(context: Context) -> tuple[bool, str]:
    """Whether the owner is a live team, and a sentence saying so (or what to fix)."""
    owner = context.owner
    if owner is None:
        return False, f"a {context.meta.kind} has no owner to check"
    if owner.status == "team":
        return True, f"owned by {owner.key}"
    if owner.status == "missing":
        return False, "no spec.owner: name the team responsible end to end"
    if owner.status == "individual":
        return False, f"owned by {owner.key}, a person: hand it to a team"
    if owner.status == "orphaned":
        return (
            False,
            f"owner {owner.key} is an orphan (its descriptor is gone): restore it or choose a new owner",
        )
    return False, f"owner {owner.key or owner.written} is not a Team or Group in the catalog"


def _owner_resolves(rule: Any, context: Context, env: RuleEnv) -> Outcome:
    passed, message = owner_message(context)
    owner = context.owner
    return CheckResult(passed, owner.key if owner is not None else None, message), None


def _owning_team(context: Context) -> tuple[TeamInfo | None, str]:
    passed, message = owner_message(context)
    if not passed:
        return None, message
    if context.team is None:
        return None, f"{context.owner.key if context.owner else 'the owner'} is not a team"
    return context.team, ""


def _owner_team_has_roles(rule: Any, context: Context, env: RuleEnv) -> Outcome:
    roles = tuple(env.required_roles if rule is True else rule)
    team, why = _owning_team(context)
    if team is None:
        return CheckResult(False, list(roles), f"{why}; no team to hold the roles"), None
    if not team.declares_roles:
        reason = (
            f"{team.key} is a Backstage Group: its members carry no roles"
            if team.kind == "group"
            else f"{team.key} lists no member with a role"
        )
        return CheckResult(False, list(roles), f"{reason} (needed: {', '.join(roles)})"), None
    missing = [role for role in roles if team.roles.get(role, 0) == 0]
    if missing:
        message = f"{team.key} has no {', '.join(missing)}: staff the role or change the required roles"
        return CheckResult(False, missing, message), None
    return CheckResult(True, [], f"{team.key} has {', '.join(roles)}"), None


def _owner_team_min_members(rule: Any, context: Context, env: RuleEnv) -> Outcome:
    wanted = int(rule)
    team, why = _owning_team(context)
    if team is None:
        return CheckResult(False, 0, why), None
    count = len(team.members)
    word = "member" if count == 1 else "members"
    passed = count >= wanted
    return CheckResult(passed, count, f"{team.key} has {count} {word} (at least {wanted} needed)"), None


# -- capabilities and relations ----------------------------------------------------------------------------


def _capability_aligned(rule: Any, context: Context, env: RuleEnv) -> Outcome:
    found = context.capabilities
    if found is None:
        kind = context.meta.kind
        return CheckResult(
            False, 0, f"a {kind} is not aligned with capabilities; the rule does not apply"
        ), None
    if found:
        return CheckResult(True, len(found), "serves " + ", ".join(found)), None
    hint = (
        "add spec.capabilities naming a Capability of the catalog"
        if context.meta.kind == "product"
        else "set spec.system to a System whose spec.domain is a Domain of the catalog"
    )
    return CheckResult(False, 0, f"serves no capability of the catalog: {hint}"), None


def _relation(rule: Any, context: Context, env: RuleEnv) -> Outcome:
    relation_type = str(rule["type"])
    target_kind = str(rule["targetKind"]).lower() if rule.get("targetKind") else None
    wanted = int(rule.get("min", 1))
    count = sum(
        1
        for edge in context.edges.get(relation_type, [])
        if target_kind is None or kind_of(edge.target) == target_kind
    )
    what = f"{relation_type} relations" + (f" to a {target_kind}" if target_kind else "")
    return CheckResult(count >= wanted, count, f"{count} {what} (at least {wanted} needed)"), None


# -- repository and time ----------------------------------------------------------------------------------


def _repo_file(rule: Any, context: Context, env: RuleEnv) -> Outcome:
    paths = [str(p) for p in rule["paths"]]
    facts = context.facts
    if not facts:
        return CheckResult(
            False, None, "no repository facts: the entity's repository has not been read"
        ), None
    present = facts.get("paths_present") or {}
    for path in paths:
        if present.get(path):
            return CheckResult(True, path, f"{path} is in the repository"), None
    unknown = [path for path in paths if path not in present and not in_listed_folder(path, present)]
    message = f"none of {', '.join(paths)} is in the repository"
    if unknown:
        message += (
            " (only sync.fact_paths and the files directly inside their folders are looked for;"
            f" add {', '.join(unknown)} there)"
        )
    return CheckResult(False, None, message), None


def _age(moment: datetime, now: datetime) -> int:
    return max(0, int((now - moment).total_seconds() // 86400))


def _within(days: int, moment: datetime | None, now: datetime, what: str) -> Outcome:
    if moment is None:
        return CheckResult(False, None, f"when {what} is unknown"), None
    age = _age(moment, now)
    until = moment + timedelta(days=days)
    passed = now <= until
    word = "day" if age == 1 else "days"
    message = f"{what} {age} {word} ago (at most {days})"
    return CheckResult(passed, age, message), until if passed else None


def _repo_commit_within_days(rule: Any, context: Context, env: RuleEnv) -> Outcome:
    raw = (context.facts or {}).get("last_commit_at")
    moment = _parse_time(raw) if isinstance(raw, str) else None
    return _within(int(rule), moment, env.now, "the last commit was")


def _descriptor_updated_within_days(rule: Any, context: Context, env: RuleEnv) -> Outcome:
    moment = context.meta.descriptor_changed_at
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return _within(int(rule), moment, env.now, "the descriptor was last changed")


def _parse_time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- plugins ------------------------------------------------------------------------------------------------


def _kpi(rule: Any, context: Context, env: RuleEnv) -> Outcome:
    return kpi_rule(rule, context, env.now)


def _plugin(rule: Any, context: Context, env: RuleEnv) -> Outcome:
    name = str(rule["name"])
    options = rule.get("options") or {}
    owner = context.owner.key if context.owner is not None and context.owner.key else None
    subject = CheckSubject(context.body, str(context.meta.key), owner, context.facts, env.now)
    result = env.plugins.run(name, subject, options)
    return result, None if name in BUILTIN_CHECKS else env.now + PLUGIN_VALIDITY


_FORMS: dict[str, Callable[[Any, Context, RuleEnv], Outcome]] = {
    "field": _field,
    "ownerResolves": _owner_resolves,
    "ownerTeamHasRoles": _owner_team_has_roles,
    "ownerTeamMinMembers": _owner_team_min_members,
    "capabilityAligned": _capability_aligned,
    "relation": _relation,
    "repoFile": _repo_file,
    "repoCommitWithinDays": _repo_commit_within_days,
    "descriptorUpdatedWithinDays": _descriptor_updated_within_days,
    "plugin": _plugin,
    "kpi": _kpi,
}
