"""Where a repository's files are linked from: the pages the hosts serve."""

from __future__ import annotations

import pytest

from catalog_sync.model import files_root


@pytest.mark.parametrize(
    ("url", "key", "root"),
    [
        ("https://github.com/acme/pay", "github:github.com:7", "https://github.com/acme/pay"),
        (
            "https://gitlab.example.com/acme/pay/",
            "gitlab:gitlab.example.com:9",
            "https://gitlab.example.com/acme/pay/-",
        ),
        ("https://github.com/acme/pay.git", "https://github.com/acme/pay.git", "https://github.com/acme/pay"),
        ("HTTP://git.example.com/acme/cart.GIT/", "git", "HTTP://git.example.com/acme/cart"),
        ("https://github.com/acme/pay.github", "git", "https://github.com/acme/pay.github"),
        ("ssh://git@github.com/acme/pay.git", "git", "ssh://git@github.com/acme/pay.git"),
        ("/srv/git/pay.git", "/srv/git/pay.git", "/srv/git/pay.git"),
        # a registration or a git source on GitLab's own site: a GitLab project
        ("https://gitlab.com/acme/pay.git", "https://gitlab.com/acme/pay", "https://gitlab.com/acme/pay/-"),
        ("HTTPS://GitLab.com/acme/web/", "git", "HTTPS://GitLab.com/acme/web/-"),
        ("https://gitlab.company.com/acme/pay", "git", "https://gitlab.company.com/acme/pay"),
        ("git@gitlab.com:acme/pay.git", "git", "git@gitlab.com:acme/pay.git"),
        # a registration keeps the user name of its URL; a git source may spell the default port
        ("https://alice@gitlab.com/acme/pay.git", "git", "https://alice@gitlab.com/acme/pay/-"),
        ("https://gitlab.com:443/acme/pay", "git", "https://gitlab.com:443/acme/pay/-"),
    ],
)
def test_files_are_linked_below_the_repositorys_page(url: str, key: str, root: str) -> None:
    assert files_root(url, key) == root
