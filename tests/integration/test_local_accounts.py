"""Local accounts: argon2 hashes, sign-in, lockout after repeated failures, every attempt audited."""
import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from core.commands.auth import MAX_FAILED_SIGN_INS, SignInRefused, hash_password, sign_in
from core.commands.users import create_user
from core.domain.roles import Actor, Role
from core.models import AuditEvent, User
from core.settings import PROJECT_ROOT
from tests.conftest import TEST_AUDIT_KEY

PASSWORD = "correct horse battery staple"


@pytest.fixture
def account(any_app):
    create_user(any_app.uow(), actor=Actor.system("test"), email="Rita@Firm.test", role=Role.REVIEWER,
                password_hash=hash_password(PASSWORD))
    return any_app


def actions(app) -> list[str]:
    with app.db.reader() as s:
        return list(s.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())


def test_sign_in_with_the_right_password(account):
    actor = sign_in(account.uow(), email="rita@firm.test ", password=PASSWORD)
    assert actor == Actor("rita@firm.test", Role.REVIEWER) and actions(account)[-1] == "auth.signed_in"


def test_a_wrong_password_is_refused_and_audited(account):
    with pytest.raises(SignInRefused, match="the email or password is wrong"):
        sign_in(account.uow(), email="rita@firm.test", password="guess")
    with pytest.raises(SignInRefused, match="the email or password is wrong"):
        sign_in(account.uow(), email="nobody@firm.test", password="guess")
    assert actions(account)[-2:] == ["auth.sign_in_failed", "auth.sign_in_failed"]


def test_repeated_failures_lock_the_account_even_for_the_right_password(account):
    for _ in range(MAX_FAILED_SIGN_INS - 1):
        with pytest.raises(SignInRefused, match="wrong"):
            sign_in(account.uow(), email="rita@firm.test", password="guess")
    with pytest.raises(SignInRefused, match="locked"):
        sign_in(account.uow(), email="rita@firm.test", password="guess")
    with pytest.raises(SignInRefused, match="locked"):
        sign_in(account.uow(), email="rita@firm.test", password=PASSWORD)
    assert "auth.locked_out" in actions(account)


def test_no_password_or_hash_reaches_the_audit_trail(account):
    with pytest.raises(SignInRefused):
        sign_in(account.uow(), email="rita@firm.test", password="a-secret-guess")
    sign_in(account.uow(), email="rita@firm.test", password=PASSWORD)
    with account.db.reader() as s:
        stored = s.execute(select(User.password_hash)).scalar()
        trail = " ".join(str(v) for row in s.execute(select(AuditEvent)).scalars()
                         for v in (row.before, row.after, row.reason))
    assert stored.startswith("$argon2") and PASSWORD not in trail and "a-secret-guess" not in trail
    assert stored not in trail


def test_users_add_reads_the_password_from_stdin(sqlite_app):
    env = {**os.environ, "DATABASE_URL": sqlite_app.settings.database_url,
           "RD_VAR_DIR": str(sqlite_app.settings.var_dir), "RD_AUDIT_KEY": TEST_AUDIT_KEY.decode()}
    run = subprocess.run([sys.executable, "-m", "core", "users", "add", "ops@firm.test", "--role", "responder"],
                         input=PASSWORD + "\n", cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert sign_in(sqlite_app.uow(), email="ops@firm.test", password=PASSWORD).role is Role.RESPONDER
    short = subprocess.run([sys.executable, "-m", "core", "users", "add", "x@firm.test", "--role", "auditor"],
                           input="short\n", cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert short.returncode == 2 and "at least 12" in short.stderr


def test_console_operator_unlocks_changes_and_lists_accounts(any_app, account):
    """The break-glass path when the only admin is locked out: at the server's console, audited under
    the operating-system account."""
    import getpass

    email = "rita@firm.test"
    for _ in range(MAX_FAILED_SIGN_INS):
        with pytest.raises(SignInRefused):
            sign_in(any_app.uow(), email=email, password="a-secret-guess")
    env = {**os.environ, "DATABASE_URL": any_app.settings.database_url,
           "RD_VAR_DIR": str(any_app.settings.var_dir), "RD_AUDIT_KEY": TEST_AUDIT_KEY.decode()}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "core", "users", *args], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True, timeout=120)

    assert "locked until" in cli("list").stdout
    assert cli("unlock", email, "--reason", "called back on the desk phone").returncode == 0
    assert sign_in(any_app.uow(), email=email, password=PASSWORD).id == email
    assert cli("set-role", email, "--role", "auditor", "--reason", "moved to internal audit").returncode == 0
    refused = cli("unlock", "nobody@firm.test", "--reason", "typo")
    assert refused.returncode == 2 and "no user" in refused.stderr
    with any_app.db.reader() as s:
        unlocked = s.execute(select(AuditEvent).where(AuditEvent.action == "user.unlocked")).scalar_one()
    assert unlocked.actor == f"cli:{getpass.getuser()}" and unlocked.reason == "called back on the desk phone"
    assert "auditor" in cli("list").stdout
