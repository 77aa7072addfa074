// placeholder: see README.md for this file's contract
