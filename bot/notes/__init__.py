"""Release notes: change set -> notes model -> Markdown and sanitised HTML; the version bump."""
