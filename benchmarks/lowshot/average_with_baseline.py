#!/usr/bin/env python3
"""Test error of the average of ulmfit's and the ML.NET baseline's class probabilities, per low-shot cell.

Reads each cell DATASET-N-seedS of a benchmarks/lowshot/run.sh output folder (predictions.csv from `ulmfit evaluate
--predictions`, baseline-predictions.csv from `mlnet-baseline --predictions`: the same documents in the same order)
and prints the error in % for weights w = 1 (ulmfit alone), 0.75, 0.5, 0.25, 0 (ML.NET alone) of
w * p_ulmfit + (1 - w) * p_mlnet.  Usage: benchmarks/lowshot/average_with_baseline.py ../runs/lowshot
"""
import csv,sys,glob,os,math
def load(p):
    r=list(csv.reader(open(p)))
    return r[0],r[1:]
for d in sorted(glob.glob(sys.argv[1]+'/*/')):
    a=os.path.join(d,'predictions.csv'); b=os.path.join(d,'baseline-predictions.csv')
    if not (os.path.exists(a) and os.path.exists(b)): continue
    ha,ra=load(a); hb,rb=load(b)
    classes=ha[2:]; idx=[hb[1:].index(c) if c in hb[1:] else None for c in classes]
    assert len(ra)==len(rb)
    assert all(x[0]==y[0] for x,y in zip(ra,rb)), d
    out=[]
    for w in [1.0,0.75,0.5,0.25,0.0]:
        err=0
        for x,y in zip(ra,rb):
            pa=[float(v) for v in x[2:]]; pb=[float(y[1+i]) if i is not None else 0 for i in idx]
            p=[w*u+(1-w)*v for u,v in zip(pa,pb)]
            if classes[max(range(len(p)),key=p.__getitem__)]!=x[0]: err+=1
        out.append(f"{w}:{100*err/len(ra):.2f}")
    print(os.path.basename(d.rstrip('/')), ' '.join(out))
