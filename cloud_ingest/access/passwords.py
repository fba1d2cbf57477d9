"""Passwords: argon2id hashes (argon2-cffi); its exceptions stay here."""

from __future__ import annotations

from argon2 import Parameters, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()


def use_parameters(params: Parameters) -> None:
    """Other argon2 cost parameters (tests use ``argon2.profiles.CHEAPEST``); stored hashes keep their own."""
    global _hasher
    _hasher = PasswordHasher.from_parameters(params)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
