import sys

from orchestrator.server_client import main

sys.exit(main())
