from seqclf.cli import main

raise SystemExit(main())
