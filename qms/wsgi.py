import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qms.settings")
application = get_wsgi_application()

# Everything loaded so far (Django, the apps, their models) lives as long as the process: keep
# it out of the garbage collector's full scans, which otherwise walk ~160,000 objects several
# times a second under load (about 5 ms a request on the complaint list; bench/README.md).
gc.freeze()
