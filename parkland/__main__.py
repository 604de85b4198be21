"""`python -m parkland` = the `parkland` command."""

from .cli import entry

if __name__ == "__main__":
    entry()
