"""Cross-app tests: the browser (end-to-end) suite lives in e2e/."""
