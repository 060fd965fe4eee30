"""`python -m learning …` is the same as the `hongfan` command."""
from learning.cli import main

if __name__ == "__main__":
    main()
