from genai_engine.cli import main

raise SystemExit(main())
