"""preuve measured side by side with sslyze, testssl.sh and ssh-audit: see bench/README.md."""
