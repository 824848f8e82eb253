"""git-credential-hf."""
