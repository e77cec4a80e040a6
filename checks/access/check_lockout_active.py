"""Lockout proven, not just configured (9.5.b): a dedicated canary is locked by N failures, then reset.

The probe (preuve/observe/identity/ssh_lockout.py) runs only when the profile opts in (`access.lockout_probe`); N is the
profile's `access.faillock_max_deny`, so a pass means the account was locked after at most that many failures.
A reset that failed is a failure of its own: the target was left changed and someone must unlock the canary.
"""

from preuve.judge import check


@check(
    "LOCK-ACTIVE",
    requirements={
        "9.5.b#1": "a canary account is refused with its real factors after N failures",
    },
    target="lockout_canary",
    severity="high",
    rule="compte témoin : N échecs puis une connexion correcte refusée ; déverrouillé ensuite (faillock --reset)",
)
def check_lockout_active(lockout, judge):
    if not lockout["probed"]:
        judge.not_applicable(f"active lockout probe not enabled ({lockout['reason']})")
    n = lockout["failures"]
    state = "locked" if lockout["locked"] else "not locked (correct login accepted)"
    judge.equals(
        "lock.active.after_failures",
        f"{state} after {n} failed {lockout['failure_method']} attempts",
        f"locked after {n} failed {lockout['failure_method']} attempts",
    )
    reset = lockout["reset"]
    done = "reset" if reset["ok"] else f"RESET FAILED (rc {reset['rc']}: {reset['stderr'] or 'no message'})"
    login = "login accepted" if lockout["unlocked_after_reset"] else "login REFUSED: the canary is left LOCKED"
    judge.equals("lock.active.reset", f"{done}, {login}", "reset, login accepted")
