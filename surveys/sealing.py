"""Sealing a submission's answers for the pending box.

The answers wait, encrypted, until their group is released (see surveys/models.py). The
key is derived from the server's `SECRET_KEY` with HKDF-SHA256 and the box is AES-GCM:
whoever reads the table without the key learns nothing of the answers, and a sealed row
moved to another group (the group is authenticated data) no longer opens.

Every plaintext is padded to a length fixed by the template, so all sealed rows of a group
have the same length whatever the comments hold. Opening also tries the keys of
`SECRET_KEY_FALLBACKS`, so that a rotated key does not lose the answers still waiting.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from surveys.models import MAX_TEXT_LENGTH, QuestionType, SurveyTemplate

#: Upper bound of one encoded answer entry `[question, choice, value, text]` without its
#: text; a text character takes at most 6 bytes in JSON (`\\u001f`).
_ENTRY_BYTES = 64
_TEXT_CHAR_BYTES = 6
_HEADER_BYTES = 64
_LENGTH_PREFIX = 4
_NONCE_BYTES = 12
_BLOCK = 1024
_INFO = b"coursedesk/surveys/pending-answers/v1"


class SealBroken(Exception):
    """A sealed row does not open with any of the server's keys."""


def padded_size(template: SurveyTemplate) -> int:
    """The plaintext length every sealing of this template is padded to: an upper bound of
    the longest possible answers, rounded up to a whole kilobyte."""
    bound = _HEADER_BYTES
    for question in template.questions:
        if question.type == QuestionType.TEXT:
            bound += _ENTRY_BYTES + _TEXT_CHAR_BYTES * MAX_TEXT_LENGTH
        elif question.type == QuestionType.MULTIPLE:
            bound += _ENTRY_BYTES * max(len(question.options), 1)
        else:
            bound += _ENTRY_BYTES
    bound += _LENGTH_PREFIX
    return -(-bound // _BLOCK) * _BLOCK


def sealed_size(template: SurveyTemplate) -> int:
    """The length of every sealed row of this template (nonce and tag included)."""
    return _NONCE_BYTES + padded_size(template) + 16


def seal(payload: dict, *, size: int, group: bytes) -> bytes:
    """`payload` as JSON, padded to `size` bytes, encrypted and bound to `group`."""
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    if len(data) + _LENGTH_PREFIX > size:
        raise ValueError(f"{len(data)} bytes of answers do not fit the padded size {size}")
    plaintext = len(data).to_bytes(_LENGTH_PREFIX, "big") + data
    plaintext += bytes(size - len(plaintext))
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + AESGCM(_keys()[0]).encrypt(nonce, plaintext, group)


def open_sealed(sealed: bytes, *, group: bytes) -> dict:
    """The payload of a sealed row; SealBroken when no key of the server opens it."""
    nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
    for key in _keys():
        try:
            plaintext = AESGCM(key).decrypt(nonce, ciphertext, group)
        except InvalidTag:
            continue
        length = int.from_bytes(plaintext[:_LENGTH_PREFIX], "big")
        return json.loads(plaintext[_LENGTH_PREFIX : _LENGTH_PREFIX + length])
    raise SealBroken("the sealed answers do not open with the server's keys")


def _keys() -> list[bytes]:
    fallbacks: Iterable = current_app.config.get("SECRET_KEY_FALLBACKS") or ()
    secrets = [current_app.config["SECRET_KEY"], *fallbacks]
    return [_derive(secret) for secret in secrets if secret]


def _derive(secret: str | bytes) -> bytes:
    material = secret.encode() if isinstance(secret, str) else secret
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(material)
