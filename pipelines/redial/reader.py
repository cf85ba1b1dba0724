"""Parse one ReDial dialog (one line of train_data.jsonl / test_data.jsonl) into merged turns.

The traps this handles (../shared/samples/FORMATS.md section 2):
- `conversationId` is a string in the files (the datasheet says integer): both are accepted and
  the id is kept as a string;
- `initiatorQuestions` / `respondentQuestions` (and, defensively, `movieMentions`) may be `[]`
  instead of a dict: read as "no entries";
- movie mentions are inline `@<movieId>` tokens resolved through `movieMentions`, whose names may
  carry a double space before the year or no year at all;
- consecutive messages of one worker form one turn (as MESE's preprocessing merges them);
- the speaker follows the worker id: initiator = seeker = `user`, respondent = recommender = `system`.

Anything structurally wrong raises `Reject` (the build dead-letters the line with the reason).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from pipelines.core.context import Reject

MENTION = re.compile(r"@(\d+)")
PLACEHOLDER = "[PH]"  # MESE's item placeholder token
_TITLE_YEAR = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})\)\s*$")

ROLE_SPEAKER = {"seeker": "user", "recommender": "system"}
FORM_KEYS = (("initiatorQuestions", "seeker"), ("respondentQuestions", "recommender"))
LABEL_RANGES = {"suggested": (0, 1), "seen": (0, 1, 2), "liked": (0, 1, 2)}


@dataclass
class Message:
    index: int  # position in the dialog's `messages`
    sender: int
    text: str
    message_id: int | None
    time_offset: int | None


@dataclass
class Turn:
    index: int
    role: str  # seeker | recommender
    worker_id: int
    messages: list[Message] = field(default_factory=list)

    @property
    def speaker(self) -> str:
        return ROLE_SPEAKER[self.role]


@dataclass
class Dialog:
    conversation_id: str
    initiator: int
    respondent: int
    movie_mentions: dict[str, str | None]
    turns: list[Turn]
    num_messages: int
    forms: dict[str, object]  # form name -> the source's questionnaire value (dict, [] or anything else)


def normalise_name(name: str) -> str:
    """Collapse the source's irregular whitespace ("Police Academy  (1984)" -> "Police Academy (1984)")."""
    return " ".join(name.split())


def title_and_year(name: str) -> tuple[str, str | None]:
    """Split "Title (1984)" into ("Title", "1984"); names without a year give (name, None)."""
    name = normalise_name(name)
    m = _TITLE_YEAR.match(name)
    if m and m.group("title"):
        return m.group("title"), m.group("year")
    return name, None


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_field(doc: dict, key: str, where: str) -> int:
    value = doc.get(key)
    if not _is_int(value):
        raise Reject(f"wrong type: {where}'{key}' must be an integer, got {type(value).__name__}")
    return value


def _optional_int(doc: dict, key: str, where: str) -> int | None:
    value = doc.get(key)
    if value is None:
        return None
    if not _is_int(value):
        raise Reject(f"wrong type: {where}'{key}' must be an integer, got {type(value).__name__}")
    return value


def _mentions(value) -> dict[str, str | None]:
    if value is None or value == []:
        return {}
    if not isinstance(value, dict):
        raise Reject(f"wrong type: 'movieMentions' must be an object, got {type(value).__name__}")
    out: dict[str, str | None] = {}
    for key, name in value.items():
        if name is not None and not isinstance(name, str):
            raise Reject(f"wrong type: movieMentions[{key!r}] must be a string, got {type(name).__name__}")
        out[str(key)] = name
    return out


def parse_dialog(line: bytes | str) -> Dialog:
    """Validate one JSON line and merge its messages into turns."""
    try:
        doc = json.loads(line)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise Reject(f"malformed JSON (truncated line?): {exc}") from None
    if not isinstance(doc, dict):
        raise Reject(f"wrong type: a dialog line must be a JSON object, got {type(doc).__name__}")
    cid = doc.get("conversationId")
    if _is_int(cid):
        cid = str(cid)
    if not isinstance(cid, str) or not cid.strip():
        raise Reject(f"wrong type: 'conversationId' must be a non-empty string, got {type(cid).__name__}")
    initiator = _int_field(doc, "initiatorWorkerId", "")
    respondent = _int_field(doc, "respondentWorkerId", "")
    if initiator == respondent:
        raise Reject(f"initiatorWorkerId and respondentWorkerId are both {initiator}: speakers cannot be told apart")
    roles = {initiator: "seeker", respondent: "recommender"}
    mentions = _mentions(doc.get("movieMentions"))
    messages = doc.get("messages")
    if not isinstance(messages, list):
        raise Reject(f"wrong type: 'messages' must be a list, got {type(messages).__name__}")
    if not messages:
        raise Reject("empty dialog: no messages")
    turns: list[Turn] = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise Reject(f"wrong type: message {i} must be an object, got {type(m).__name__}")
        where = f"message {i} "
        text = m.get("text")
        if not isinstance(text, str):
            raise Reject(f"wrong type: {where}'text' must be a string, got {type(text).__name__}")
        sender = _int_field(m, "senderWorkerId", where)
        if sender not in roles:
            raise Reject(f"unknown worker id {sender} in message {i}: neither initiator {initiator} nor respondent {respondent}")
        msg = Message(i, sender, text, _optional_int(m, "messageId", where), _optional_int(m, "timeOffset", where))
        if turns and turns[-1].worker_id == sender:
            turns[-1].messages.append(msg)
        else:
            turns.append(Turn(len(turns), roles[sender], sender, [msg]))
    forms = {form: doc.get(key) for key, form in FORM_KEYS}
    return Dialog(cid.strip(), initiator, respondent, mentions, turns, len(messages), forms)


def mention_ids(text: str) -> list[str]:
    """Movie ids of the `@id` tokens in `text`, in order (repeats kept)."""
    return MENTION.findall(text)


def render(text: str, names: dict[str, str]) -> tuple[str, str]:
    """(resolved, templated): each resolvable `@id` becomes its name, or MESE's `[PH]`.

    Ids missing from `names` stay as the literal `@id` in both texts (they are dead-lettered
    by the caller), so no information is lost."""
    if "@" not in text:
        return text, text
    resolved, templated, pos = [], [], 0
    for m in MENTION.finditer(text):
        name = names.get(m.group(1))
        if name is None:
            continue
        resolved += (text[pos : m.start()], name)
        templated += (text[pos : m.start()], PLACEHOLDER)
        pos = m.end()
    resolved.append(text[pos:])
    templated.append(text[pos:])
    return "".join(resolved), "".join(templated)


def join_texts(parts: list[str]) -> str:
    """Merged turn text: the messages' texts (stripped, empty ones skipped) joined by a space."""
    return " ".join(p.strip() for p in parts if p.strip())


def validate_labels(movie_id: str, labels) -> dict[str, int]:
    """One questionnaire entry: {"suggested": 0|1, "seen": 0|1|2, "liked": 0|1|2}."""
    if not isinstance(labels, dict):
        raise Reject(f"wrong type: labels of movie {movie_id} must be an object, got {type(labels).__name__}")
    out = {}
    for key, allowed in LABEL_RANGES.items():
        value = labels.get(key)
        if not _is_int(value) or value not in allowed:
            raise Reject(f"bad label: {key}={value!r} for movie {movie_id} (allowed {list(allowed)})")
        out[key] = value
    return out
