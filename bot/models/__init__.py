"""Model files shipped with the package (package data): see README.md, "The embedding model"."""
