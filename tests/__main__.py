"""`python3 -m tests [PYTEST ARGS]`: set up .venv (with the test extras) and the
headless browser if needed, then run pytest in it. Exit code: pytest's, except that
a run that executed no test fails (pytest's 5 becomes 1)."""
import os
import subprocess
import sys

from ui.bootstrap import REPO, ensure_venv

if __name__ == "__main__":
    python = ensure_venv("test")
    browser_setup = REPO / "tests" / "browser_setup.py"
    if browser_setup.exists():
        subprocess.run([str(python), str(browser_setup)], cwd=REPO)
    code = subprocess.run([str(python), "-m", "pytest", *sys.argv[1:]], cwd=REPO,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}).returncode
    if code == 5:
        print("tests: pytest collected no tests; failing the run", file=sys.stderr)
        code = 1
    sys.exit(code)
