set -e
rm -rf /tmp/ib/lite2-out /tmp/ib/lite2/.jupyterlite.doit.db
cd /tmp/ib/lite2 && /tmp/ib/jl8/bin/jupyter lite build --contents content --output-dir /tmp/ib/lite2-out --pyodide /tmp/ib/npm/pyodide-npm-314.0.6.tar.bz2 $(for w in /tmp/ib/litepip/*.whl; do echo --piplite-wheels $w; done) > build.log 2>&1
python3 - <<'PY'
import json,re,hashlib,shutil,os
p='/tmp/ib/lite2-out/static/pyodide/pyodide-lock.json'
lock=json.load(open(p)); d=lock['packages']
norm=lambda s: re.sub(r'[-_.]+','-',s).lower()
byname={norm(f.split('-')[0]):f for f in os.listdir('/tmp/ib/litewheels')}
n=0
for k,v in d.items():
    f=byname.get(norm(v['name']))
    if f and f.split('-')[1]==v['version']:
        src='/tmp/ib/litewheels/'+f
        shutil.copy(src,'/tmp/ib/lite2-out/static/pyodide/'+f)
        v['file_name']=f; v['sha256']=hashlib.sha256(open(src,'rb').read()).hexdigest(); n+=1
json.dump(lock,open(p,'w'))
print('rewrote',n,'lock entries with PyPI wheels')
PY
