"""What one conformance check found: the record `ferbench check-plugin` prints a row of."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["pass", "fail", "skip", "xfail"]  # xfail: failed, as the estimator declares it must


@dataclass(frozen=True)
class CheckResult:
    """One check of one plugin: pass/fail/skip/xfail, what is wrong and how to fix it (on failure),
    a short note (on success: what was seen), and the plugin's traceback where it raised."""

    plugin: str
    check: str
    status: Status
    problem: str = ""
    fix: str = ""
    note: str = ""
    traceback: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def failed(self) -> bool:
        return self.status == "fail"
