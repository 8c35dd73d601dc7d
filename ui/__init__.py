"""The faces of Isnad: the `isnad` command line (ui.cli) and the Gradio app (ui.app).

`python3 -m ui ...` works from a fresh clone with only python3: it sets up .venv
first (see ui.bootstrap), then runs `isnad ...`.
"""
