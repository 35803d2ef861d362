from mlsec_lint.cli import main

raise SystemExit(main())
