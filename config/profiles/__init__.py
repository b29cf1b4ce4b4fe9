"""Site profiles (TOML); a package only so that packaging ships the files."""
