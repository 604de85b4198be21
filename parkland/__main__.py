"""`python -m parkland` = the `parkland` command."""

from .cli import main

if __name__ == "__main__":
    main()
