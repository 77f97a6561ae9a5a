"""Child processes of the local stack, stopped terminate -> wait -> kill."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO

STOP_TIMEOUT = 15.0


def console_script(name: str) -> str:
    """The path of an installed console script, next to this interpreter if possible."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed (uv sync --all-packages)")
    return found


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes]

    @classmethod
    def start(cls, name: str, argv: list[str], env: dict[str, str], log_path: Path) -> Child:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = log_path.open("ab")
        # A session of its own: a terminal's Ctrl-C reaches only `dev`, which stops the
        # children in order instead of all of them dying at once.
        process = subprocess.Popen(  # noqa: S603 - our own console scripts
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return cls(name=name, process=process, log_path=log_path, _log=log)

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        if self.running():
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])
