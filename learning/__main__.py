"""`python -m learning …` is the same as the `hongfan` command."""
from learning.cli import main

if __name__ == "__main__":  # importing the module (tests/test_imports.py) must not run the CLI
    main()
