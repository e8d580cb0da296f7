from robotrace.agent.cli import main

raise SystemExit(main())
