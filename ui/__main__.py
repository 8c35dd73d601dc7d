"""`python3 -m ui ARGS`: set up .venv if needed, then run `isnad ARGS` inside it."""
import os
import sys

from ui.bootstrap import BIN, ensure_venv, in_project_venv

if __name__ == "__main__":
    if in_project_venv():
        from ui.cli import main

        sys.exit(main(sys.argv[1:]))
    ensure_venv()
    isnad = str(BIN / "isnad")
    os.execv(isnad, [isnad, *sys.argv[1:]])
