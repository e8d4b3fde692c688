import sys

from media_pipeline_client.cli import main

sys.exit(main())
