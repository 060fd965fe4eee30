"""`python -m learning …` is the same as the `hongfan` command."""
from learning.cli import main

main()
