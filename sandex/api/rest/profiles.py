"""Profile writes: create, rename, deactivate. Permission manage (GUESS).

Names are unique among a user's active profiles (case-insensitive), ``default`` and
``margin`` are reserved, a user has at most ``PROFILES_MAX`` active profiles. The checks that
depend on state are the core's (``RenameProfile``, ``DeactivateProfile``); a new profile's
are made here in the same event-loop step as its command, so no other command comes between.
"""

from __future__ import annotations

from sandex.api.http import ApiError, Request, Response, json_response
from sandex.api.rest.accounts import profile_json
from sandex.api.rest.conversions import body_text
from sandex.api.rest.routing import MANAGE, Context, Route
from sandex.core import CreateProfile, DeactivateProfile, Profile, RenameProfile
from sandex.core.account_admin import RESERVED_NAMES, name_taken
from sandex.core.events import Rejected
from sandex.errors import Error

PROFILES_MAX = 100  # Coinbase: "The maximum number of profiles is 100" (active ones, GUESS)
NAME_MAX = 100  # characters (GUESS: Coinbase documents no limit)


def _sibling(app: Context, request: Request, profile_id: str) -> Profile:
    """One of the key's user's profiles, or 404 ``NotFound``."""
    profiles = app.node.engine.profiles
    found = profiles.get(profile_id)
    if found is None or found.user_id != profiles[request.profile_id].user_id:
        raise ApiError(Error.NOT_FOUND)
    return found


def _name(body: dict[str, object]) -> str:
    name = body_text(body, "name")
    if not name.strip() or name.lower() in RESERVED_NAMES or len(name) > NAME_MAX:
        raise ApiError(Error.INVALID_PROFILE_NAME)
    return name


async def create_profile(app: Context, request: Request) -> Response:
    body = request.json_object()
    name = _name(body)
    node = app.node
    engine = node.engine
    owner = engine.profiles[request.profile_id]
    if name_taken(engine, owner.user_id, name):
        raise ApiError(Error.PROFILE_NAME_TAKEN)
    active = sum(1 for p in engine.profiles.values() if p.user_id == owner.user_id and p.active)
    if active >= PROFILES_MAX:
        raise ApiError(Error.PROFILE_LIMIT)
    profile_id = node.ids.uuid()
    events = await node.execute(CreateProfile(
        time=node.stamp(), profile_id=profile_id, user_id=owner.user_id, name=name,
        maker_fee_rate=owner.maker_rate, taker_fee_rate=owner.taker_rate))
    if events and type(events[0]) is Rejected:
        raise ApiError.rejected(events[0])
    return json_response(profile_json(engine.profiles[profile_id]))


def _body_profile(body: dict[str, object], profile_id: str) -> None:
    """The spec repeats ``profile_id`` in the body: the path wins, a different one is 400."""
    sent = body.get("profile_id")
    if sent is not None and sent != profile_id:
        raise ApiError(Error.INVALID_FIELD, "profile_id")


async def rename_profile(app: Context, request: Request, profile_id: str) -> Response:
    body = request.json_object()
    _body_profile(body, profile_id)
    name = _name(body)
    profile = _sibling(app, request, profile_id)
    node = app.node
    events = await node.execute(RenameProfile(time=node.stamp(), profile_id=profile.id,
                                              name=name))
    if events and type(events[0]) is Rejected:
        raise ApiError.rejected(events[0])
    return json_response(profile_json(profile))


async def deactivate_profile(app: Context, request: Request, profile_id: str) -> Response:
    """Moves every balance to ``to`` and deactivates; answers ``{}``."""
    body = request.json_object()
    _body_profile(body, profile_id)
    to = body_text(body, "to")
    profile = _sibling(app, request, profile_id)
    node = app.node
    target = node.engine.profiles.get(to)
    if target is None or target.user_id != profile.user_id:
        raise ApiError(Error.INVALID_TO_PROFILE)
    events = await node.execute(DeactivateProfile(
        time=node.stamp(), profile_id=profile.id, to_profile_id=to,
        transfer_id=node.ids.uuid()))
    if events and type(events[0]) is Rejected:
        raise ApiError.rejected(events[0])
    return json_response({})


ROUTES = [
    Route("POST", "/profiles", create_profile, MANAGE),
    Route("PUT", "/profiles/{profile_id}", rename_profile, MANAGE),
    Route("PUT", "/profiles/{profile_id}/deactivate", deactivate_profile, MANAGE),
]
