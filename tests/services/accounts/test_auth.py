from datetime import timedelta

import pytest

from crm.models.base import utcnow
from crm.services.accounts import auth


def test_right_password_signs_in_and_wrong_does_not(world):
    assert auth.authenticate("alice", "correct-horse", "10.0.0.1") == world.alice
    assert auth.authenticate("ALICE ", "correct-horse", "10.0.0.1") == world.alice
    assert auth.authenticate("alice", "wrong", "10.0.0.1") is None
    assert auth.authenticate("nobody", "x", "10.0.0.1") is None


def test_inactive_accounts_cannot_sign_in(world, app):
    from crm.extensions import db

    world.bob.is_active_account = False
    db.session.commit()
    assert auth.authenticate("bob", "correct-horse", "10.0.0.1") is None


def test_repeated_failures_lock_the_account_for_the_window(world):
    now = utcnow()
    for _ in range(5):
        assert auth.authenticate("alice", "guess", "10.0.0.1", now=now) is None
    with pytest.raises(auth.LoginThrottled) as locked:
        # Even the right password is not checked while locked.
        auth.authenticate("alice", "correct-horse", "10.0.0.2", now=now)
    assert 1 <= locked.value.minutes <= 15
    later = now + timedelta(minutes=16)
    assert auth.authenticate("alice", "correct-horse", "10.0.0.2", now=later) == world.alice


def test_one_address_guessing_many_usernames_is_locked_too(world):
    now = utcnow()
    for name in ("a", "b", "c", "d", "e"):
        auth.authenticate(name, "guess", "10.9.9.9", now=now)
    with pytest.raises(auth.LoginThrottled):
        auth.authenticate("alice", "correct-horse", "10.9.9.9", now=now)
    assert auth.authenticate("alice", "correct-horse", "10.0.0.1", now=now) == world.alice
